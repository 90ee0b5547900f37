"""SM3 hashing, SM4-GCM encryption at rest, the HMAC-SM3 blind index and key rotation."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from yiwang.accounts.models import User, UserKind
from yiwang.core import crypto
from yiwang.core.models import AuditEntry

K1 = "00112233445566778899aabbccddeeff"
K2 = "ffeeddccbbaa99887766554433221100"
BLIND_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"


@pytest.fixture
def use_keys(settings):
    """``use_keys("k1")``: configure k1 and k2 (or only ``keys``) with ``active`` active."""

    def configure(active: str, keys: str = f"k1:{K1},k2:{K2}") -> None:
        settings.YIWANG_SM4_KEYS = keys
        settings.YIWANG_SM4_ACTIVE_KEY_ID = active
        settings.YIWANG_BLIND_INDEX_KEY = BLIND_KEY
        crypto.reset_key_cache()

    return configure


def raw_columns(user: User) -> dict[str, str]:
    table = User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number, phone, id_number_bidx FROM {table} WHERE id = %s",  # noqa: S608
            [user.pk])
        id_number, phone, bidx = cursor.fetchone()
    return {"id_number": id_number, "phone": phone, "id_number_bidx": bidx}


def set_raw(user: User, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {User._meta.db_table} SET {column} = %s WHERE id = %s",  # noqa: S608
                       [value, user.pk])


def citizen(username: str, id_number: str = ID_NUMBER, phone: str = PHONE) -> User:
    return User.objects.create(username=username, kind=UserKind.CITIZEN, name=username,
                               id_number=id_number, phone=phone)


def flip_byte(ciphertext: str, index: int) -> str:
    prefix, kid, blob = ciphertext.split(":", 2)
    raw = bytearray(base64.b64decode(blob))
    raw[index] ^= 0x01
    return f"{prefix}:{kid}:{base64.b64encode(bytes(raw)).decode()}"


# --- SM3 -------------------------------------------------------------------------------


def test_sm3__gb_t_32905_test_vectors():
    assert crypto.sm3_hex(b"abc") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert crypto.sm3_hex(b"abcd" * 16) == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")


def test_hmac_sm3__keyed_and_deterministic():
    first = crypto.hmac_sm3_hex(b"k" * 32, b"data")
    assert first == crypto.hmac_sm3_hex(b"k" * 32, b"data")
    assert first != crypto.hmac_sm3_hex(b"j" * 32, b"data")
    assert first != crypto.sm3_hex(b"data")
    assert len(first) == 64


# --- SM4-GCM ---------------------------------------------------------------------------


def test_encrypt__round_trip_keeps_chinese_text_and_names_the_active_key(use_keys):
    use_keys("k1")
    ciphertext = crypto.encrypt("张三 11010519491231002X")
    assert ciphertext.startswith("sm4gcm:k1:")
    assert "张三" not in ciphertext and ID_NUMBER not in ciphertext
    assert crypto.decrypt(ciphertext) == "张三 11010519491231002X"
    assert crypto.key_id_of(ciphertext) == "k1"


def test_encrypt__same_plaintext_twice__different_ciphertexts(use_keys):
    use_keys("k1")
    first, second = crypto.encrypt(ID_NUMBER), crypto.encrypt(ID_NUMBER)
    assert first != second
    assert crypto.decrypt(first) == crypto.decrypt(second) == ID_NUMBER


@pytest.mark.parametrize("index", [0, 12, -1])  # nonce, body, tag
def test_decrypt__one_bit_changed__raises_decryption_error(use_keys, index):
    use_keys("k1")
    tampered = flip_byte(crypto.encrypt(ID_NUMBER), index)
    with pytest.raises(crypto.DecryptionError, match="altered"):
        crypto.decrypt(tampered)


def test_decrypt__relabelled_with_another_configured_key__refused(use_keys):
    use_keys("k1")
    relabelled = crypto.encrypt(ID_NUMBER).replace("sm4gcm:k1:", "sm4gcm:k2:", 1)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(relabelled)


@pytest.mark.parametrize("value", [
    ID_NUMBER, "sm4gcm:k1", "sm4gcm:k1:not base64!", "aes:k1:AAAA", "sm4gcm:k1:AAAA",
    "sm4gcm:k1:" + base64.b64encode(b"x" * 27).decode(),
])
def test_decrypt__not_a_ciphertext__raises_decryption_error(use_keys, value):
    use_keys("k1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(value)


def test_decrypt__unknown_key_id__names_it(use_keys):
    use_keys("k1")
    ciphertext = crypto.encrypt(ID_NUMBER)
    use_keys("k2", keys=f"k2:{K2}")
    with pytest.raises(crypto.DecryptionError, match="unknown key id 'k1'"):
        crypto.decrypt(ciphertext)


def test_decrypt__associated_data_must_match(use_keys):
    use_keys("k1")
    ciphertext = crypto.encrypt(ID_NUMBER, associated_data=b"accounts.user:1")
    assert crypto.decrypt(ciphertext, associated_data=b"accounts.user:1") == ID_NUMBER
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext, associated_data=b"accounts.user:2")


def test_key_rotation__old_data_still_decrypts_after_new_key_becomes_active(use_keys):
    use_keys("k1")
    old = crypto.encrypt(ID_NUMBER)
    use_keys("k2")
    new = crypto.encrypt(ID_NUMBER)
    assert crypto.active_key_id() == "k2"
    assert new.startswith("sm4gcm:k2:")
    assert crypto.decrypt(old) == crypto.decrypt(new) == ID_NUMBER


def test_keyring__no_active_key_id__first_key_is_active(use_keys):
    use_keys("")
    assert crypto.active_key_id() == "k1"


def test_keyring__no_keys_configured__development_key_is_used(settings):
    settings.YIWANG_SM4_KEYS = ""
    settings.YIWANG_SM4_ACTIVE_KEY_ID = ""
    crypto.reset_key_cache()
    assert crypto.active_key_id() == crypto.DEV_KEY_ID
    assert crypto.using_dev_keys()
    assert crypto.decrypt(crypto.encrypt("x")) == "x"


@pytest.mark.parametrize(("keys", "active", "message"), [
    ("k1:not-hex-at-all-not-hex-at-all!", "k1", "not hexadecimal"),
    ("k1:00112233445566778899aabbccddee", "k1", "16 bytes"),
    (f"k1:{K1}00", "k1", "16 bytes"),
    (f":{K1}", "", "16 bytes"),
    (f"k1:{K1},k2:{K2}", "k3", "not among the keys"),
    (f"k1:{K1},k1:{K2}", "k1", "given twice"),
])
def test_keyring__bad_configuration__improperly_configured(settings, keys, active, message):
    settings.YIWANG_SM4_KEYS = keys
    settings.YIWANG_SM4_ACTIVE_KEY_ID = active
    crypto.reset_key_cache()
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.encrypt("x")


@pytest.mark.parametrize(("key", "message"), [
    ("zz" * 32, "not hexadecimal"),
    ("ab" * 15, "at least 16 bytes"),
])
def test_blind_index_key__bad_configuration__improperly_configured(settings, key, message):
    settings.YIWANG_BLIND_INDEX_KEY = key
    crypto.reset_key_cache()
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.blind_index(ID_NUMBER, purpose="id_number")


def test_blind_index__deterministic_keyed_and_separated_by_purpose(settings, use_keys):
    use_keys("k1")
    index = crypto.blind_index("13800138000", purpose="phone")
    assert index == crypto.blind_index("13800138000", purpose="phone")
    assert index != crypto.blind_index("13800138000", purpose="id_number")
    settings.YIWANG_BLIND_INDEX_KEY = "ab" * 32
    crypto.reset_key_cache()
    assert index != crypto.blind_index("13800138000", purpose="phone")


# --- EncryptedTextField and the User blind index ------------------------------------------


@pytest.mark.django_db
def test_user_id_number__database_column_holds_ciphertext_not_plaintext(use_keys):
    use_keys("k1")
    user = citizen("zhangsan")
    raw = raw_columns(user)
    assert raw["id_number"].startswith("sm4gcm:k1:")
    assert raw["phone"].startswith("sm4gcm:k1:")
    for value in raw.values():
        assert ID_NUMBER not in value and "19491231" not in value and PHONE not in value
    column = User._meta.get_field("id_number")
    assert crypto.decrypt(raw["id_number"], associated_data=b"accounts.user.id_number") == ID_NUMBER
    with pytest.raises(crypto.DecryptionError):  # bound to its column: no swapping into phone
        crypto.decrypt(raw["id_number"], associated_data=b"accounts.user.phone")
    assert column.associated_data == b"accounts.user.id_number"
    reloaded = User.objects.get(pk=user.pk)
    assert (reloaded.id_number, reloaded.phone) == (ID_NUMBER, PHONE)
    assert list(User.objects.filter(pk=user.pk).values_list("id_number", flat=True)) == [
        ID_NUMBER]


@pytest.mark.django_db
def test_user_by_id_number__found_through_the_blind_index(use_keys):
    use_keys("k1")
    user = citizen("zhangsan")
    citizen("lisi", id_number="440304199003071235", phone="13900139000")
    assert list(User.objects.by_id_number(ID_NUMBER)) == [user]
    assert list(User.objects.by_phone(PHONE)) == [user]
    assert not User.objects.by_id_number("110105194912310021").exists()


@pytest.mark.django_db
def test_user_by_id_number__still_found_after_the_sm4_key_changes(use_keys):
    use_keys("k1")
    user = citizen("zhangsan")
    use_keys("k2")
    assert list(User.objects.by_id_number(ID_NUMBER)) == [user]
    assert User.objects.get(pk=user.pk).id_number == ID_NUMBER


@pytest.mark.django_db
def test_user_blank_id_number__stored_empty_not_encrypted(use_keys):
    use_keys("k1")
    user = User.objects.create(username="staff1", kind=UserKind.STAFF)
    assert raw_columns(user) == {"id_number": "", "phone": "", "id_number_bidx": ""}


@pytest.mark.django_db
def test_user_column_tampered_in_database__reading_it_fails_loudly(use_keys):
    use_keys("k1")
    user = citizen("zhangsan")
    set_raw(user, "id_number", flip_byte(raw_columns(user)["id_number"], 14))
    with pytest.raises(crypto.DecryptionError):
        User.objects.get(pk=user.pk)


# --- rotate_keys ------------------------------------------------------------------------


def run_rotate(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rotation_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="crypto.rotate_keys").order_by("id"))


@pytest.mark.django_db
def test_rotate_keys__reencrypts_old_values_under_the_active_key_and_is_idempotent(use_keys):
    use_keys("k1")
    zhang = citizen("zhangsan")
    li = citizen("lisi", id_number="440304199003071235", phone="")
    use_keys("k2")
    wang = citizen("wangwu", id_number="44030419900307123X", phone="13700137000")
    wang_before = raw_columns(wang)

    out, err = run_rotate("--batch-size", "1")

    for user in (zhang, li, wang):
        raw = raw_columns(user)
        assert raw["id_number"].startswith("sm4gcm:k2:")
        assert raw["phone"] == "" or raw["phone"].startswith("sm4gcm:k2:")
    assert raw_columns(wang) == wang_before  # already under k2: untouched
    assert "100%" in err  # the progress bar
    assert "re-encrypted 3 values" in out
    entry = rotation_entries()[-1]
    assert entry.object_id == "k2"
    assert entry.after["reencrypted"] == 3
    assert entry.after["failed"] == 0
    assert entry.after["fields"] == {"accounts.user.id_number": 2, "accounts.user.phone": 1}

    # Once rotated, the old key can go and everything still reads.
    use_keys("k2", keys=f"k2:{K2}")
    assert User.objects.get(pk=zhang.pk).id_number == ID_NUMBER
    assert User.objects.get(pk=li.pk).id_number == "440304199003071235"
    assert list(User.objects.by_id_number(ID_NUMBER)) == [zhang]

    rotated = {user.pk: raw_columns(user) for user in (zhang, li, wang)}
    run_rotate()
    assert {user.pk: raw_columns(user) for user in (zhang, li, wang)} == rotated
    assert len(rotation_entries()) == 2
    assert rotation_entries()[-1].after["reencrypted"] == 0


@pytest.mark.django_db
def test_rotate_keys__plaintext_left_from_before_encryption__gets_encrypted(use_keys):
    use_keys("k1")
    user = citizen("zhangsan")
    set_raw(user, "phone", PHONE)
    run_rotate()
    assert raw_columns(user)["phone"].startswith("sm4gcm:k1:")
    assert User.objects.get(pk=user.pk).phone == PHONE
    assert rotation_entries()[-1].after["plaintext_encrypted"] == 1


@pytest.mark.django_db
def test_rotate_keys__value_under_a_removed_key__reported_and_the_rest_rotated(use_keys):
    use_keys("k1")
    current = citizen("zhangsan")
    use_keys("k2")
    orphan = citizen("lisi", id_number="440304199003071235", phone="")
    use_keys("k1", keys=f"k1:{K1}")  # k2 removed before its data was rotated
    before = raw_columns(orphan)["id_number"]
    with pytest.raises(CommandError, match=rf"accounts.user.id_number #{orphan.pk}: unknown key"):
        run_rotate()
    assert raw_columns(orphan)["id_number"] == before  # nothing lost
    assert raw_columns(current)["id_number"].startswith("sm4gcm:k1:")
    assert rotation_entries()[-1].after["failed"] == 1
