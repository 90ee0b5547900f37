"""The demo district's service catalog and a few thousand cases in every state.

The matters are modelled on real Shenzhen district implementation lists (names, limits,
materials), simplified; codes are local and opaque. Cases are bulk-created with their
timelines and clocks so the demo loads in seconds; one audit entry records the load.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import audit_log
from yiwang.core.models import Clock, OrgUnit
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.models.org import OrgKind
from yiwang.core.workdays import WorkCalendar

from .catalog import pinyin_key
from .models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Channel,
    Deficiency,
    Material,
    Matter,
    MatterType,
    MatterVersion,
    OnlineDepth,
    Rating,
    RatingChannel,
    Rectification,
    RectificationStatus,
    Theme,
    TimeState,
    VersionStatus,
)

THEMES = [
    # (code, name, English, audience)
    ("birth", "生育", "Having a baby", "person"),
    ("school", "入学", "Starting school", "person"),
    ("employment", "就业创业", "Work and starting up", "person"),
    ("marriage", "婚姻", "Marriage", "person"),
    ("housing", "住房", "Housing", "person"),
    ("elderly", "养老", "Old age", "person"),
    ("medical", "医疗", "Health care", "person"),
    ("social_aid", "社会救助", "Social assistance", "person"),
    ("residence", "户籍居住", "Residence and hukou", "person"),
    ("veterans", "退役军人", "Veterans", "person"),
    ("start_business", "开办企业", "Starting a business", "enterprise"),
    ("construction", "工程建设", "Construction projects", "enterprise"),
    ("operations", "经营许可", "Operating licences", "enterprise"),
    ("culture", "文化旅游", "Culture and tourism", "enterprise"),
    ("closing", "注销退出", "Closing a business", "enterprise"),
]

P, E, PE = ["person"], ["enterprise", "unincorporated"], ["person", "enterprise"]
ORG = ["enterprise", "institution", "social_org"]


@dataclass(frozen=True)
class M:
    dept: str  # department short name (generator's vocab)
    name: str
    type: str
    objects: list[str]
    statutory: int | None
    promised: int
    depth: int
    themes: tuple[str, ...]
    materials: tuple[str, ...]
    deficient: tuple[str, ...] = ()  # materials that may come later (容缺)
    visits: int = 0
    fee: str = ""
    commitment: bool = False
    postal: bool = True
    basis: str = ""


L, PS, BEN, CONF, OTHER = (MatterType.LICENSE, MatterType.PUBLIC_SERVICE, MatterType.BENEFIT,
                           MatterType.CONFIRMATION, MatterType.OTHER_POWER)

MATTERS: list[M] = [
    M("住建局", "建筑工程施工许可证核发", L, E, 15, 3, 4, ("construction",),
      ("建筑工程施工许可申请表", "建设工程规划许可证", "施工合同", "施工图审查合格书"),
      ("施工图审查合格书",), basis="《中华人民共和国建筑法》第七条"),
    M("住建局", "商品房预售许可", L, E, 20, 5, 3, ("housing", "construction"),
      ("商品房预售许可申请表", "国有土地使用权证明", "建设工程规划许可证", "预售方案"),
      visits=1, basis="《城市房地产开发经营管理条例》第二十三条"),
    M("住建局", "建设工程竣工验收备案", OTHER, E, 15, 3, 4, ("construction",),
      ("竣工验收备案表", "竣工验收报告", "质量保修书"), basis="《建设工程质量管理条例》第四十九条"),
    M("住建局", "房屋建筑工程消防验收备案", OTHER, E, 15, 5, 4, ("construction",),
      ("消防验收备案表", "工程竣工验收报告", "消防设施检测报告"),
      basis="《建设工程消防设计审查验收管理暂行规定》"),
    M("住建局", "公共租赁住房租赁资格申请", CONF, P, 30, 20, 4, ("housing",),
      ("公共租赁住房申请表", "家庭成员身份证明", "收入证明"), ("收入证明",),
      basis="《深圳市公共租赁住房管理办法》"),
    M("城管局", "户外广告设置许可", L, PE, 20, 5, 4, ("operations",),
      ("户外广告设置申请表", "设计效果图", "场地使用证明"),
      basis="《城市市容和环境卫生管理条例》第十一条"),
    M("城管局", "城市建筑垃圾处置核准", L, E, 20, 5, 4, ("construction",),
      ("建筑垃圾处置申请表", "运输合同", "消纳场所证明"),
      basis="《城市建筑垃圾管理规定》第七条"),
    M("城管局", "临时占用城市道路许可", L, PE, 20, 5, 4, ("construction", "operations"),
      ("占道申请表", "占道平面图", "交通疏导方案"), ("交通疏导方案",),
      basis="《城市道路管理条例》第三十一条"),
    M("城管局", "砍伐、迁移城市树木审批", L, PE, 20, 10, 3, ("construction",),
      ("树木砍伐迁移申请表", "现场照片", "补植方案"), visits=1,
      basis="《城市绿化条例》第二十条"),
    M("城管局", "城镇污水排入排水管网许可", L, E, 20, 7, 4, ("operations",),
      ("排水许可申请表", "排水户内部排水管网图", "水质检测报告"), ("水质检测报告",),
      basis="《城镇排水与污水处理条例》第二十一条"),
    M("市场监管局", "个体工商户设立登记", OTHER, P, 15, 0, 4,
      ("start_business", "employment"), ("个体工商户设立登记申请书", "经营场所使用证明"),
      basis="《促进个体工商户发展条例》"),
    M("市场监管局", "企业设立登记", OTHER, E, 15, 1, 4, ("start_business",),
      ("公司登记申请书", "公司章程", "住所使用证明", "法定代表人任职文件"),
      basis="《中华人民共和国市场主体登记管理条例》第三条"),
    M("市场监管局", "企业变更登记", OTHER, E, 15, 1, 4, ("operations",),
      ("变更登记申请书", "股东会决议", "章程修正案"),
      basis="《中华人民共和国市场主体登记管理条例》"),
    M("市场监管局", "企业注销登记", OTHER, E, 15, 1, 4, ("closing",),
      ("注销登记申请书", "清算报告", "清税证明"), basis="《中华人民共和国市场主体登记管理条例》"),
    M("市场监管局", "食品经营许可", L, PE, 20, 3, 4, ("operations", "start_business"),
      ("食品经营许可申请书", "经营场所平面图", "食品安全管理制度"), ("食品安全管理制度",),
      commitment=True, basis="《中华人民共和国食品安全法》第三十五条"),
    M("市场监管局", "药品零售企业经营许可", L, E, 30, 10, 3, ("operations",),
      ("药品经营许可申请表", "执业药师资格证明", "经营场所证明"), visits=1,
      basis="《中华人民共和国药品管理法》第五十二条"),
    M("教育局", "义务教育阶段学位申请", PS, P, None, 20, 4, ("school",),
      ("学位申请表", "户口簿", "房产或租赁证明"), basis=""),
    M("教育局", "民办学校设立审批", L, ORG, 90, 30, 3, ("school",),
      ("民办学校设立申请书", "办学章程", "办学场所证明", "资产来源证明"), visits=1,
      basis="《中华人民共和国民办教育促进法》第十二条"),
    M("教育局", "教师资格认定", CONF, P, 60, 30, 4, ("employment",),
      ("教师资格认定申请表", "学历证书", "普通话水平测试等级证书", "体检合格证明"),
      ("体检合格证明",), basis="《教师资格条例》第十二条"),
    M("民政局", "内地居民结婚登记", CONF, P, None, 0, 3, ("marriage",),
      ("结婚登记声明书", "居民身份证", "户口簿"), visits=1, postal=False,
      basis="《婚姻登记条例》第四条"),
    M("民政局", "最低生活保障审核确认", BEN, P, 30, 20, 4, ("social_aid",),
      ("低保申请书", "家庭收入财产状况声明", "授权核对书"), ("家庭收入财产状况声明",),
      basis="《社会救助暂行办法》第十一条"),
    M("民政局", "高龄老人津贴申领", BEN, P, 20, 5, 4, ("elderly",),
      ("高龄津贴申请表", "银行账户信息"), basis="《深圳市高龄老人津贴发放办法》"),
    M("民政局", "社会团体成立登记", CONF, ORG, 60, 30, 3, ("start_business",),
      ("成立登记申请书", "章程草案", "场所使用权证明", "验资报告"), visits=1,
      basis="《社会团体登记管理条例》第十一条"),
    M("民政局", "困难残疾人生活补贴和重度残疾人护理补贴", BEN, P, 30, 15, 4, ("social_aid",),
      ("两项补贴申请表", "残疾人证"),
      basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》"),
    M("卫健局", "医疗机构执业登记", L, ORG, 45, 20, 3, ("operations", "medical"),
      ("医疗机构执业登记申请书", "设置批准书", "房屋产权证明", "医务人员资格证明"), visits=1,
      basis="《医疗机构管理条例》第十五条"),
    M("卫健局", "生育登记", PS, P, None, 0, 4, ("birth",),
      ("生育登记表", "夫妻双方身份证"), basis=""),
    M("卫健局", "出生医学证明补发", PS, P, None, 10, 3, ("birth",),
      ("出生医学证明补发申请表", "亲子鉴定或分娩记录"), visits=1, basis=""),
    M("卫健局", "公共场所卫生许可", L, PE, 20, 5, 4, ("operations",),
      ("卫生许可申请书", "卫生管理制度", "检测报告"), ("检测报告",), commitment=True,
      basis="《公共场所卫生管理条例》第八条"),
    M("人力资源局", "就业登记", PS, P, None, 0, 4, ("employment",),
      ("就业登记表", "劳动合同"), basis=""),
    M("人力资源局", "失业登记", PS, P, None, 0, 4, ("employment",),
      ("失业登记表", "解除劳动合同证明"), basis=""),
    M("人力资源局", "创业补贴申领", BEN, P, 30, 15, 4, ("employment", "start_business"),
      ("创业补贴申请表", "营业执照", "银行账户信息"), basis="《深圳市创业担保贷款和创业补贴办法》"),
    M("人力资源局", "职业技能培训补贴申领", BEN, P, 30, 15, 4, ("employment",),
      ("培训补贴申请表", "职业资格证书"), basis=""),
    M("社保分局", "社会保险参保登记", PS, PE, None, 0, 4, ("employment", "start_business"),
      ("参保登记表",), basis=""),
    M("社保分局", "基本养老保险待遇申领", BEN, P, 20, 10, 4, ("elderly",),
      ("养老保险待遇申请表", "银行账户信息"), basis="《中华人民共和国社会保险法》第十六条"),
    M("医保局", "门诊特定病种待遇认定", CONF, P, 15, 5, 4, ("medical",),
      ("门诊特定病种申请表", "诊断证明", "病历资料"), ("病历资料",), basis=""),
    M("医保局", "异地就医备案", PS, P, None, 0, 4, ("medical",),
      ("异地就医备案表",), basis=""),
    M("应急管理局", "危险化学品经营许可", L, E, 30, 10, 3, ("operations",),
      ("危险化学品经营许可申请表", "安全评价报告", "经营场所证明", "安全管理制度"),
      visits=1, basis="《危险化学品安全管理条例》第三十三条"),
    M("应急管理局", "烟花爆竹经营（零售）许可", L, PE, 20, 5, 3, ("operations",),
      ("烟花爆竹零售许可申请书", "场所平面图", "安全员培训证明"), visits=1,
      basis="《烟花爆竹安全管理条例》第十九条"),
    M("水务局", "取水许可", L, ORG, 45, 20, 3, ("construction",),
      ("取水许可申请书", "水资源论证报告"), visits=1, basis="《取水许可和水资源费征收管理条例》"),
    M("水务局", "河道管理范围内建设项目工程建设方案审批", L, ORG, 20, 10, 4, ("construction",),
      ("建设方案审批申请表", "防洪评价报告", "设计图纸"), ("防洪评价报告",),
      basis="《中华人民共和国水法》第三十八条"),
    M("交通运输局", "道路货物运输经营许可", L, E, 20, 5, 4, ("operations",),
      ("道路运输经营申请表", "车辆行驶证", "驾驶员从业资格证"),
      basis="《中华人民共和国道路运输条例》第二十四条"),
    M("交通运输局", "占用、挖掘公路许可", L, PE, 20, 10, 4, ("construction",),
      ("占用挖掘公路申请表", "施工方案", "交通安全保障方案"), ("交通安全保障方案",),
      basis="《中华人民共和国公路法》第四十四条"),
    M("文广旅体局", "营业性演出审批", L, ORG, 20, 5, 4, ("culture",),
      ("营业性演出申请表", "演出节目内容说明", "演员名单"),
      basis="《营业性演出管理条例》第十三条"),
    M("文广旅体局", "娱乐场所经营许可", L, E, 20, 10, 3, ("culture", "operations"),
      ("娱乐场所经营申请表", "消防验收文件", "经营场所平面图"), visits=1,
      basis="《娱乐场所管理条例》第九条"),
    M("文广旅体局", "互联网上网服务营业场所经营许可", L, E, 20, 10, 3, ("culture",),
      ("上网服务场所申请表", "消防安全证明", "经营场所证明"), visits=1,
      basis="《互联网上网服务营业场所管理条例》第十一条"),
    M("文广旅体局", "高危险性体育项目经营许可", L, E, 30, 10, 3, ("culture",),
      ("高危体育项目经营申请书", "救生员资格证明", "场所设施检测报告"), visits=1,
      basis="《全民健身条例》第三十二条"),
    M("退役军人局", "自主就业退役士兵一次性经济补助发放", BEN, P, 30, 10, 4, ("veterans",),
      ("一次性经济补助申请表", "退出现役证", "银行账户信息"), basis="《退役士兵安置条例》"),
    M("退役军人局", "退役军人优待证申领", PS, P, None, 10, 4, ("veterans",),
      ("优待证申领表", "近期免冠照片"), basis=""),
    M("公安分局", "居住证申领", PS, P, None, 10, 4, ("residence",),
      ("居住证申领表", "居住证明", "近期免冠照片"), basis="《居住证暂行条例》"),
    M("公安分局", "人才引进入户", CONF, P, 30, 15, 4, ("residence", "employment"),
      ("入户申请表", "学历证明", "社保缴纳证明"), ("社保缴纳证明",), basis=""),
    M("规自局", "建设工程规划许可证核发", L, ORG, 20, 10, 4, ("construction",),
      ("建设工程规划许可申请表", "总平面图", "建筑设计方案"),
      basis="《中华人民共和国城乡规划法》第四十条"),
    M("规自局", "不动产首次登记", CONF, PE, 30, 5, 4, ("housing",),
      ("不动产登记申请书", "权属来源证明", "宗地图"), fee="按不动产登记费标准收取",
      basis="《不动产登记暂行条例》第二十条"),
    M("司法局", "法律援助申请", PS, P, None, 7, 4, ("social_aid",),
      ("法律援助申请表", "经济困难状况说明"), basis="《中华人民共和国法律援助法》"),
    M("发改局", "企业投资项目备案", OTHER, E, 5, 1, 4, ("construction", "start_business"),
      ("项目备案申请表", "项目基本情况说明"), basis="《企业投资项目核准和备案管理条例》第十三条"),
    M("科技创新局", "科技创新专项资金（企业研发资助）申请", BEN, E, 60, 30, 4,
      ("operations",), ("资助申请书", "研发费用专项审计报告", "营业执照"),
      ("研发费用专项审计报告",), basis=""),
    M("生态环境局", "建设项目环境影响报告表审批", L, ORG, 30, 10, 4, ("construction",),
      ("环境影响报告表", "审批申请书"), commitment=True,
      basis="《中华人民共和国环境影响评价法》第二十二条"),
    M("生态环境局", "排污许可证核发", L, E, 20, 10, 4, ("operations",),
      ("排污许可证申请表", "自行监测方案"), basis="《排污许可管理条例》第十一条"),
    M("残联", "残疾人证办理", CONF, P, 30, 15, 3, ("social_aid", "medical"),
      ("残疾人证申请表", "残疾评定表", "近期免冠照片"), visits=1, basis=""),
    M("消防救援大队", "公众聚集场所投入使用、营业前消防安全检查", L, E, 10, 5, 4,
      ("operations",), ("消防安全检查申请表", "消防安全制度", "场所平面图"), commitment=True,
      basis="《中华人民共和国消防法》第十五条"),
    M("政数局", "政府信息公开申请", PS, PE, 20, 15, 4, (), ("政府信息公开申请表",),
      basis="《中华人民共和国政府信息公开条例》第三十三条"),
]

LICENSE_STEPS = [{"name": s} for s in ("受理", "审查", "决定", "办结", "送达")]
OTHER_STEPS = [{"name": s} for s in ("受理", "审核", "办结")]

# English names (the official wording where one exists) and result names, for the
# English 办事指南; zh-Hant is converted from zh-Hans on the fly.
ENGLISH: dict[str, tuple[str, str]] = {
    "建筑工程施工许可证核发": ("Issuance of the Construction Permit for Building Works",
                          "Construction Permit for Building Works"),
    "商品房预售许可": ("Pre-sale Permit for Commercial Housing",
                    "Commercial Housing Pre-sale Permit"),
    "建设工程竣工验收备案": ("Filing of Completion Acceptance of Construction Projects",
                       "Completion Acceptance Filing Certificate"),
    "房屋建筑工程消防验收备案": ("Filing of Fire-safety Acceptance of Building Works",
                         "Fire-safety Acceptance Filing Certificate"),
    "公共租赁住房租赁资格申请": ("Application for Eligibility to Rent Public Rental Housing",
                         "Notice of Public Rental Housing Eligibility"),
    "户外广告设置许可": ("Permit for Outdoor Advertising Installations",
                     "Outdoor Advertising Permit"),
    "城市建筑垃圾处置核准": ("Approval of Urban Construction Waste Disposal",
                       "Construction Waste Disposal Approval"),
    "临时占用城市道路许可": ("Permit for Temporary Occupation of Urban Roads",
                       "Road Occupation Permit"),
    "砍伐、迁移城市树木审批": ("Approval of Felling or Relocating Urban Trees",
                        "Tree Felling or Relocation Approval"),
    "城镇污水排入排水管网许可": ("Permit for Discharging Wastewater into Urban Sewers",
                         "Urban Wastewater Discharge Permit"),
    "个体工商户设立登记": ("Registration of an Individual Business", "Business Licence"),
    "企业设立登记": ("Registration of the Establishment of an Enterprise", "Business Licence"),
    "企业变更登记": ("Registration of Changes of an Enterprise",
                   "Notice of Approval of Change Registration"),
    "企业注销登记": ("Deregistration of an Enterprise", "Notice of Approval of Deregistration"),
    "食品经营许可": ("Food Business Licence", "Food Business Licence"),
    "药品零售企业经营许可": ("Licence for Retail Pharmacies", "Drug Business Licence"),
    "义务教育阶段学位申请": ("Application for a Place in Compulsory Education",
                       "Notice of School Place Allocation"),
    "民办学校设立审批": ("Approval of the Establishment of a Private School",
                     "Private School Establishment Approval"),
    "教师资格认定": ("Recognition of Teacher Qualification", "Teacher Qualification Certificate"),
    "内地居民结婚登记": ("Marriage Registration of Mainland Residents", "Marriage Certificate"),
    "最低生活保障审核确认": ("Confirmation of Eligibility for the Minimum Living Allowance",
                       "Minimum Living Allowance Decision"),
    "高龄老人津贴申领": ("Application for the Allowance for Senior Citizens",
                     "Senior Citizen Allowance Decision"),
    "社会团体成立登记": ("Registration of the Establishment of a Social Organisation",
                     "Registration Certificate of a Social Organisation"),
    "困难残疾人生活补贴和重度残疾人护理补贴": (
        "Living Allowance for Disabled Persons in Need and Nursing Allowance for Persons with "
        "Severe Disabilities", "Disability Allowance Decision"),
    "医疗机构执业登记": ("Practice Registration of Medical Institutions",
                     "Practising Licence of a Medical Institution"),
    "生育登记": ("Birth Registration", "Birth Registration Record"),
    "出生医学证明补发": ("Reissue of the Medical Certificate of Birth",
                     "Medical Certificate of Birth (reissued)"),
    "公共场所卫生许可": ("Hygiene Licence for Public Places", "Public Place Hygiene Licence"),
    "就业登记": ("Employment Registration", "Employment Registration Record"),
    "失业登记": ("Unemployment Registration", "Unemployment Registration Certificate"),
    "创业补贴申领": ("Application for the Business Start-up Subsidy",
                   "Start-up Subsidy Decision"),
    "职业技能培训补贴申领": ("Application for the Vocational Skills Training Subsidy",
                       "Training Subsidy Decision"),
    "社会保险参保登记": ("Social Insurance Registration", "Social Insurance Registration Record"),
    "基本养老保险待遇申领": ("Application for Basic Pension Benefits",
                       "Pension Benefit Decision"),
    "门诊特定病种待遇认定": ("Recognition of Outpatient Benefits for Specified Diseases",
                       "Specified Disease Benefit Decision"),
    "异地就医备案": ("Filing for Medical Treatment in Another Region",
                   "Cross-region Medical Treatment Filing"),
    "危险化学品经营许可": ("Business Licence for Hazardous Chemicals",
                       "Hazardous Chemicals Business Licence"),
    "烟花爆竹经营（零售）许可": ("Retail Licence for Fireworks", "Fireworks Retail Licence"),
    "取水许可": ("Water Abstraction Permit", "Water Abstraction Permit"),
    "河道管理范围内建设项目工程建设方案审批": (
        "Approval of Construction Plans for Projects within River Management Areas",
        "Construction Plan Approval"),
    "道路货物运输经营许可": ("Road Freight Transport Business Licence",
                       "Road Transport Business Licence"),
    "占用、挖掘公路许可": ("Permit for Occupying or Excavating Highways",
                      "Highway Occupation or Excavation Permit"),
    "营业性演出审批": ("Approval of Commercial Performances", "Commercial Performance Approval"),
    "娱乐场所经营许可": ("Business Licence for Entertainment Venues",
                     "Entertainment Business Licence"),
    "互联网上网服务营业场所经营许可": ("Business Licence for Internet Service Venues",
                               "Internet Service Venue Licence"),
    "高危险性体育项目经营许可": ("Business Licence for High-risk Sports",
                         "High-risk Sports Business Licence"),
    "自主就业退役士兵一次性经济补助发放": (
        "One-off Financial Aid for Discharged Soldiers Finding Their Own Employment",
        "Financial Aid Decision"),
    "退役军人优待证申领": ("Application for the Veterans Preferential Treatment Card",
                       "Veterans Preferential Treatment Card"),
    "居住证申领": ("Application for the Residence Permit", "Residence Permit"),
    "人才引进入户": ("Household Registration for Recruited Talent",
                   "Household Registration Approval"),
    "建设工程规划许可证核发": ("Issuance of the Construction Project Planning Permit",
                          "Construction Project Planning Permit"),
    "不动产首次登记": ("First Registration of Real Estate", "Real Estate Title Certificate"),
    "法律援助申请": ("Application for Legal Aid", "Legal Aid Decision"),
    "企业投资项目备案": ("Filing of Enterprise Investment Projects",
                     "Investment Project Filing Certificate"),
    "科技创新专项资金（企业研发资助）申请": (
        "Application for Science and Technology Innovation Funding (Enterprise R&D Grant)",
        "Funding Decision"),
    "建设项目环境影响报告表审批": ("Approval of Environmental Impact Report Forms of "
                              "Construction Projects", "Environmental Impact Approval"),
    "排污许可证核发": ("Issuance of the Pollutant Discharge Permit",
                    "Pollutant Discharge Permit"),
    "残疾人证办理": ("Application for the Disability Certificate", "Disability Certificate"),
    "公众聚集场所投入使用、营业前消防安全检查": (
        "Fire Safety Inspection before Public Assembly Venues Open",
        "Fire Safety Inspection Approval"),
    "政府信息公开申请": ("Application for Disclosure of Government Information",
                     "Reply to the Disclosure Request"),
}
STEPS_EN = {"受理": "Acceptance", "审查": "Review", "审核": "Examination", "决定": "Decision",
            "办结": "Completion", "送达": "Delivery"}


def _translations(spec: M, steps: list[dict[str, str]]) -> dict[str, Any]:
    english = ENGLISH.get(spec.name)
    if english is None:
        return {}
    name, result = english
    return {"en": {
        "name": name, "result_name": result,
        "acceptance_conditions": "The application materials are complete and in the "
                                 "statutory form.",
        "steps": [STEPS_EN.get(step["name"], step["name"]) for step in steps],
    }}


def _content(spec: M, department: OrgUnit, code: str) -> dict[str, Any]:
    immediate = spec.promised == 0
    depth = spec.depth
    steps = LICENSE_STEPS if spec.type == MatterType.LICENSE else OTHER_STEPS
    return {
        "name": spec.name, "basic_code": code[-12:], "implementation_code": code,
        "handling_item_code": code + "01", "matter_type": spec.type,
        "legal_basis": spec.basis or "《深圳市政务服务管理办法》",
        "department": department, "service_objects": spec.objects,
        "statutory_limit": spec.statutory, "promised_limit": spec.promised,
        "case_kind": CaseKind.IMMEDIATE if immediate else CaseKind.PROMISED,
        "handling_forms": ["window", "pc", "mobile"] + (["post"] if spec.postal else []),
        "online_depth": depth, "visits": spec.visits,
        "visits_reason": "需现场核验原件或核查场所" if spec.visits else "",
        "has_fee": bool(spec.fee), "fee_basis": "《不动产登记收费标准》" if spec.fee else "",
        "fee_standard": spec.fee,
        "acceptance_conditions": "申请材料齐全、符合法定形式",
        "steps": steps, "translations": _translations(spec, steps),
        "result_name": spec.name.removesuffix("申请").removesuffix("审批") + "决定书",
        "result_type": "证照" if spec.type == MatterType.LICENSE else "批文",
        "locations": [{"name": "区行政服务大厅", "address": department.address}],
        "hours": "周一至周五 9:00-12:00，14:00-18:00（法定节假日除外）",
        "consult_phone": department.phone or "0755-12345", "complaint_phone": "12345",
        "faq": [{"q": "可以网上办理吗？", "a": "可以，登录后在“办事服务”中在线申请。"}],
        "deficiency_allowed": bool(spec.deficient), "supplement_days": 5,
        "commitment_allowed": spec.commitment, "citywide": depth == OnlineDepth.FULL,
        "appointment": True, "postal_delivery": spec.postal,
        "form_schema": {
            "type": "object", "title": spec.name,
            "required": ["contact_phone"],
            "properties": {
                "contact_phone": {"type": "string", "title": "联系电话"},
                "note": {"type": "string", "title": "申请事由", "maxLength": 500},
            },
        },
        "warning_days": 2 if spec.promised > 3 else 1,
    }


@transaction.atomic
def load_demo_catalog(*, district: OrgUnit) -> int:
    """Themes and the demo matters, each with a published first version. Idempotent."""
    themes = {}
    for order, (code, name, english, audience) in enumerate(THEMES):
        themes[code], _created = Theme.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": english, "audience": audience,
                                 "sort_order": order})
    departments = {u.short_name: u for u in OrgUnit.objects.filter(
        kind__in=[OrgKind.DEPARTMENT, OrgKind.BUREAU], path__startswith=district.path)}
    created = 0
    for index, spec in enumerate(MATTERS, start=1):
        department = departments.get(spec.dept)
        if department is None:
            continue
        code = f"{department.code}{district.code[:6]}{index:04d}000"
        if Matter.objects.filter(implementation_code=code).exists():
            continue
        matter = Matter.objects.create(implementation_code=code, department=department,
                                       name=spec.name, name_pinyin=pinyin_key(spec.name))
        version = MatterVersion.objects.create(
            matter=matter, number=1, status=VersionStatus.PUBLISHED,
            effective_from=dt.date(2026, 1, 1), published_at=timezone.now(),
            **_content(spec, department, code))
        version.themes.set([themes[t] for t in spec.themes])
        for order, name in enumerate(spec.materials):
            Material.objects.create(
                version=version, code=f"m{order + 1}", name=name, sort_order=order,
                required=True, originals=1 if order == 0 else 0, copies=0 if order == 0 else 1,
                issuer="申请人" if order == 0 else "", may_be_deficient=name in spec.deficient)
        matter.published = version
        matter.save(update_fields=["published"])
        created += 1
    if created:
        audit_log(actor=None, action="demo.load_catalog", object_type="services.matter",
                  object_id="*", after={"matters": created, "themes": len(THEMES)})
    return created


# --- cases -------------------------------------------------------------------------------

# Share of cases per final state, roughly what a district sees on a given day.
STATE_WEIGHTS = [
    (CaseStatus.CLOSED, 52), (CaseStatus.UNDER_REVIEW, 10), (CaseStatus.ACCEPTED, 6),
    (CaseStatus.SUBMITTED, 5), (CaseStatus.ACCEPTED_DEFICIENT, 3), (CaseStatus.SUPPLEMENT, 3),
    (CaseStatus.SUSPENDED, 2), (CaseStatus.APPROVED, 4), (CaseStatus.REJECTED, 1),
    (CaseStatus.DELIVERED, 4), (CaseStatus.REFUSED, 3), (CaseStatus.WITHDRAWN, 3),
    (CaseStatus.TERMINATED, 1), (CaseStatus.DRAFT, 3),
]
PATHS: dict[str, list[str]] = {
    CaseStatus.DRAFT: [],
    CaseStatus.SUBMITTED: ["submit"],
    CaseStatus.SUPPLEMENT: ["submit", "request_supplement"],
    CaseStatus.REFUSED: ["submit", "refuse"],
    CaseStatus.ACCEPTED: ["submit", "accept"],
    CaseStatus.ACCEPTED_DEFICIENT: ["submit", "accept_with_deficiency"],
    CaseStatus.UNDER_REVIEW: ["submit", "accept", "start_review"],
    CaseStatus.SUSPENDED: ["submit", "accept", "start_review", "suspend"],
    CaseStatus.APPROVED: ["submit", "accept", "start_review", "approve"],
    CaseStatus.REJECTED: ["submit", "accept", "start_review", "reject"],
    CaseStatus.DELIVERED: ["submit", "accept", "start_review", "approve", "deliver"],
    CaseStatus.CLOSED: ["submit", "accept", "start_review", "approve", "deliver", "close"],
    CaseStatus.WITHDRAWN: ["submit", "withdraw"],
    CaseStatus.TERMINATED: ["submit", "accept_with_deficiency", "terminate"],
}
REASONS = {
    "refuse": "申请事项不属于本部门职权范围",
    "reject": "经审查，申请人不符合法定条件",
    "request_supplement": "申请材料不齐全，请一次性补正",
    "suspend": "需组织现场核查",
    "withdraw": "申请人主动撤回",
    "terminate": "容缺材料未在期限内补交",
}


def generate_demo_cases(*, count: int, seed: int = 2026, now: dt.datetime | None = None,
                        applicants: list[Any], clerks: dict[int, Any],
                        reviewers: dict[int, Any], days: int = 120,
                        ratings: bool = False) -> int:
    """Bulk-create ``count`` cases spread over the last ``days`` days in every state.

    ``clerks`` and ``reviewers`` map a department id to a staff user. Returns how many
    cases were created. Deterministic for a seed.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    versions = list(MatterVersion.objects.filter(status=VersionStatus.PUBLISHED)
                    .select_related("matter", "department"))
    if not versions or not applicants:
        return 0
    states = [s for s, _w in STATE_WEIGHTS]
    weights = [w for _s, w in STATE_WEIGHTS]
    prefix = versions[0].department.path.strip("/").split("/")[0][:6]
    start_seq = Case.objects.count()
    cases: list[Case] = []
    events: list[CaseEvent] = []
    clocks: list[Clock] = []
    plans: list[tuple[str, dt.datetime]] = []
    for i in range(count):
        version = rng.choice(versions)
        state: str = rng.choices(states, weights)[0]
        filed = now - dt.timedelta(days=rng.random() * days)
        if state not in (CaseStatus.CLOSED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN,
                         CaseStatus.TERMINATED):
            # Open cases are recent, as in a real inbox: most still within their limit.
            window = max(2.0, version.promised_limit * 1.3)
            filed = now - dt.timedelta(days=rng.random() * min(days, window))
        applicant = rng.choice(applicants)
        online = rng.random() < 0.72
        channel = rng.choice([Channel.PC, Channel.MOBILE]) if online else Channel.WINDOW
        number = f"{prefix}{timezone.localtime(filed):%Y%m%d}{900000 + start_seq + i:06d}"
        case = Case(
            number=number, matter=version.matter, version=version,
            department=version.department, intake_unit=version.department,
            applicant=applicant,
            applicant_name=applicant.enterprise_name or applicant.name or applicant.username,
            filed_by=applicant if online else clerks.get(version.department_id, applicant),
            channel=channel, status=state,
            form_data={"contact_phone": "138****0000", "note": "申请办理"},
            submitted_at=filed if state != CaseStatus.DRAFT else None)
        path = PATHS[state]
        if "accept" in path or "accept_with_deficiency" in path:
            case.accepted_at = filed + dt.timedelta(hours=rng.uniform(0.2, 20))
            limit = version.promised_limit if version.case_kind == CaseKind.PROMISED else 0
            due = calendar.add_working_days(case.accepted_at, limit)
            clock = Clock(unit=ClockUnit.WORKDAYS, limit=limit, started_at=case.accepted_at,
                          due_at=due)
            if state in (CaseStatus.SUSPENDED, CaseStatus.SUPPLEMENT):
                clock.paused_at = min(now, case.accepted_at + dt.timedelta(days=1))
            clocks.append(clock)
            case.clock = clock
            if state == CaseStatus.ACCEPTED_DEFICIENT:
                case.deficiency_due_at = calendar.add_working_days(case.accepted_at, 5)
        if {"approve", "reject"} & set(path) and case.accepted_at is not None:
            span = (case.clock.due_at - case.accepted_at) if case.clock else dt.timedelta(1)
            # Most decide in time, some late: the statistics should have both.
            factor = rng.uniform(0.1, 0.95) if rng.random() < 0.9 else rng.uniform(1.05, 1.6)
            case.decided_at = min(now, case.accepted_at + span * factor)
        if state in (CaseStatus.CLOSED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN,
                     CaseStatus.TERMINATED):
            base = case.decided_at or case.accepted_at or filed
            case.closed_at = min(now, base + dt.timedelta(hours=rng.uniform(1, 48)))
        if case.clock is not None and (case.closed_at or state in (
                CaseStatus.DELIVERED, CaseStatus.APPROVED, CaseStatus.REJECTED)):
            case.clock.stopped_at = case.decided_at or case.closed_at
        if state in (CaseStatus.UNDER_REVIEW, CaseStatus.SUSPENDED, CaseStatus.APPROVED,
                     CaseStatus.REJECTED, CaseStatus.DELIVERED, CaseStatus.CLOSED):
            case.assigned_to = reviewers.get(version.department_id)
        if state in (CaseStatus.DELIVERED, CaseStatus.CLOSED):
            case.delivery_method = rng.choice(["download", "download", "post", "window"])
        case.revision = len(path)
        timeline = _timeline(case, state, filed, now)
        if case.closed_at is not None:
            case.closed_at = timeline[-1].at
        cases.append(case)
        plans.append((state, filed))
        events.extend(timeline)
    with transaction.atomic():
        Clock.objects.bulk_create(clocks, batch_size=2000)
        for case in cases:
            if case.clock is not None:
                case.clock_id = case.clock.pk
        Case.objects.bulk_create(cases, batch_size=2000)
        deficiencies: list[Deficiency] = []
        for case, (planned, _filed) in zip(cases, plans, strict=True):
            if planned in (CaseStatus.ACCEPTED_DEFICIENT, CaseStatus.SUPPLEMENT):
                deficiencies.append(Deficiency(
                    case=case, kind=(Deficiency.Kind.DEFICIENT
                                     if planned == CaseStatus.ACCEPTED_DEFICIENT
                                     else Deficiency.Kind.SUPPLEMENT),
                    description="补充材料", due_at=case.deficiency_due_at))
        CaseEvent.objects.bulk_create(events, batch_size=5000)
        Deficiency.objects.bulk_create(deficiencies, batch_size=2000)
        audit_log(actor=None, action="demo.load_cases", object_type="services.case",
                  object_id="*", after={"cases": len(cases), "seed": seed})
    _refresh_time_states(now=now, calendar=calendar)
    if ratings:
        _demo_ratings(cases, rng=rng, now=now, calendar=calendar)
    return len(cases)


# 好差评 of closed cases: most rate, mostly well; the bad ones open rectifications in
# every state, so the rectification inbox and the public figures have something to show.
LEVEL_WEIGHTS = [(5, 70), (4, 18), (3, 7), (2, 3), (1, 2)]
BAD_TEXTS = ["等了很久才办好", "窗口人员态度不好", "材料要求前后说法不一", "系统老是提交失败",
             "来回跑了三次"]
GOOD_TAGS = ["办事快", "态度好", "一次办好", "指引清楚"]


def _demo_ratings(cases: list[Case], *, rng: random.Random, now: dt.datetime,
                  calendar: WorkCalendar) -> None:
    ratings: list[Rating] = []
    for case in cases:
        if case.status != CaseStatus.CLOSED or rng.random() > 0.65:
            continue
        level = rng.choices([lv for lv, _w in LEVEL_WEIGHTS],
                            [w for _lv, w in LEVEL_WEIGHTS])[0]
        channel = (RatingChannel.TABLET if case.channel == Channel.WINDOW
                   else rng.choice([RatingChannel.PC, RatingChannel.MOBILE, RatingChannel.SMS]))
        ratings.append(Rating(
            case=case, matter_id=case.matter_id, department_id=case.department_id,
            rater_id=case.applicant_id, channel=channel, level=level,
            tags=[] if level <= 2 else rng.sample(GOOD_TAGS, k=rng.randint(0, 2)),
            text=rng.choice(BAD_TEXTS) if level <= 2 else ""))
    with transaction.atomic():
        Rating.objects.bulk_create(ratings, batch_size=2000)
        bad = [r for r in ratings if r.level <= 2]
        clocks = []
        for rating in bad:
            rated = min(now, (rating.case.closed_at or now) + dt.timedelta(hours=2))
            clocks.append(Clock(unit=ClockUnit.WORKDAYS, limit=15, started_at=rated,
                                due_at=calendar.add_working_days(rated, 15)))
        Clock.objects.bulk_create(clocks, batch_size=2000)
        states = [RectificationStatus.OPEN, RectificationStatus.CONTACTED,
                  RectificationStatus.RECTIFIED, RectificationStatus.CLOSED,
                  RectificationStatus.CLOSED, RectificationStatus.APPEALED]
        rectifications = []
        for rating, clock in zip(bad, clocks, strict=True):
            state = rng.choice(states)
            done = state in (RectificationStatus.CONTACTED, RectificationStatus.RECTIFIED,
                             RectificationStatus.CLOSED)
            rectifications.append(Rectification(
                rating=rating, department_id=rating.department_id, status=state, clock=clock,
                verification="已核实情况属实" if done else "",
                contact_note="已电话联系申请人致歉并说明改进措施" if done else "",
                result="已优化材料清单并开展窗口服务培训"
                if state in (RectificationStatus.RECTIFIED, RectificationStatus.CLOSED) else "",
                callback_level=4 if state == RectificationStatus.CLOSED else None,
                appeal_reason="该评价与办件事实不符（申请人未按要求提交材料）"
                if state == RectificationStatus.APPEALED else "",
                closed_at=min(now, clock.started_at + dt.timedelta(days=5))
                if state == RectificationStatus.CLOSED else None))
        Rectification.objects.bulk_create(rectifications, batch_size=2000)


def _timeline(case: Case, state: str, filed: dt.datetime, now: dt.datetime) -> list[CaseEvent]:
    """The case's events in order, each at least a minute after the one before."""
    at = filed
    status: str = CaseStatus.DRAFT
    events = [CaseEvent(case=case, action="create", to_status=status, actor=case.filed_by,
                        at=at)]
    for step in PATHS[state]:
        planned = {"accept": case.accepted_at, "accept_with_deficiency": case.accepted_at,
                   "approve": case.decided_at, "reject": case.decided_at,
                   "close": case.closed_at}.get(step) or at + dt.timedelta(hours=2)
        at = min(max(planned, at + dt.timedelta(minutes=1)), now)
        target = _target(step, status)
        events.append(CaseEvent(case=case, action=step, from_status=status, to_status=target,
                                actor=case.filed_by, reason=REASONS.get(step, ""), at=at))
        status = target
    return events


def _target(step: str, status: str) -> str:
    from .cases import TRANSITIONS

    target = TRANSITIONS[step].target
    return target if target is not None else status


def _refresh_time_states(*, now: dt.datetime, calendar: WorkCalendar) -> None:
    from .cases import OPEN_WITH_CLOCK, time_state_of

    by_state: dict[str, list[int]] = {}
    for case in (Case.objects.filter(status__in=OPEN_WITH_CLOCK, clock__isnull=False)
                 .select_related("clock", "version")):
        by_state.setdefault(time_state_of(case, at=now, calendar=calendar), []).append(case.pk)
    for state, pks in by_state.items():
        if state != TimeState.NORMAL:
            Case.objects.filter(pk__in=pks).update(time_state=state)


# --- demo set-up ---------------------------------------------------------------------------

DEMO_CASES = 3000
DEMO_APPLICANT_PERSONS = 300
DEMO_APPLICANT_ENTERPRISES = 60


def _demo_applicants(*, persons_csv: Any, enterprises_csv: Any, password_hash: str) -> list[Any]:
    """Citizen and enterprise accounts for a slice of the generated population.

    Usernames are phone numbers (citizens) and credit codes (enterprises), as on the
    portal; every account shares the demo password's hash (hashing each takes seconds).
    """
    import csv

    from yiwang.accounts.models import User, UserKind, id_number_index, phone_index

    users: list[User] = []
    with open(persons_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if len(users) >= DEMO_APPLICANT_PERSONS:
                break
            if row["birth_date"] > "2008-01-01":
                continue
            users.append(User(username=row["phone"], name=row["name"], kind=UserKind.CITIZEN,
                              id_number=row["id_number"], phone=row["phone"],
                              id_number_bidx=id_number_index(row["id_number"]),
                              phone_bidx=phone_index(row["phone"]), password=password_hash))
    with open(enterprises_csv, encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            if index >= DEMO_APPLICANT_ENTERPRISES:
                break
            users.append(User(username=row["credit_code"], name=row["legal_rep_name"],
                              kind=UserKind.ENTERPRISE, enterprise_name=row["name"],
                              credit_code=row["credit_code"], phone=row["phone"],
                              phone_bidx=phone_index(row["phone"]), password=password_hash))
    existing = set(User.objects.filter(username__in=[u.username for u in users])
                   .values_list("username", flat=True))
    User.objects.bulk_create([u for u in users if u.username not in existing], batch_size=1000)
    return list(User.objects.filter(username__in=[u.username for u in users]))


def setup_demo(*, district: OrgUnit, persons_csv: Any, enterprises_csv: Any,
               password_hash: str, cases: int = DEMO_CASES) -> dict[str, int]:
    """The services part of ``demo_setup``: catalog, applicants and cases. Idempotent."""
    from yiwang.accounts.models import User

    if Case.objects.exists():
        return {}
    matters = load_demo_catalog(district=district)
    applicants = _demo_applicants(persons_csv=persons_csv, enterprises_csv=enterprises_csv,
                                  password_hash=password_hash)
    staff = User.objects.filter(kind="staff", is_active=True).select_related("org_unit")
    clerks: dict[int, Any] = {}
    reviewers: dict[int, Any] = {}
    for user in staff.prefetch_related("groups"):
        roles = {g.name for g in user.groups.all()}
        if user.org_unit_id is None:
            continue
        if "window_clerk" in roles or "handler" in roles:
            clerks.setdefault(user.org_unit_id, user)
        if "approver" in roles:
            reviewers.setdefault(user.org_unit_id, user)
    created = generate_demo_cases(count=cases, applicants=applicants, clerks=clerks,
                                  reviewers=reviewers, ratings=True)
    return {"matters": matters, "applicants": len(applicants), "cases": created}
