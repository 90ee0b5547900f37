"""A quick probe of the events map on a big PostgreSQL database (not a registered
benchmark: ``bench/benchmarks/`` holds those).

    createdb -h 127.0.0.1 -U postgres yw_map
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yw_map ./yw manage migrate
    DATABASE_URL=… YW_MAP_SEED=1 .venv/bin/python manage.py shell < bench/event_map_probe.py

With ``YW_MAP_SEED=1`` it first loads the demo district's org tree and the dispatch
catalog and inserts 1,000,000 synthetic events with one SQL statement (uniform points in
the communities' boxes, 2 % without a location, 12 % open, 1 in 5 open ones overdue,
two years of ``received_at``); then it times ``/events/map/`` in-process (Django test
client: no network, no static files), 5 calls after a warm-up, per view and role.
"""

import os
import statistics
import time

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import User

SEED_SQL = """
CREATE TEMP TABLE comm AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, parent_id, min_lon, min_lat,
         max_lon, max_lat
  FROM core_orgunit WHERE kind = 'community' AND min_lon IS NOT NULL;
CREATE TEMP TABLE cat AS
  SELECT row_number() OVER (ORDER BY c.id) - 1 AS i, c.id FROM events_category c
  JOIN events_dispatchcatalog k ON k.id = c.catalog_id
  WHERE k.status = 'published' AND c.level = 3;
INSERT INTO events_event (number, channel, source_ref, appeal_type, urgent, title, description,
  category_id, suggestions, address, address_normalized, lat, lon, location_unit_id, street_id,
  location_missing, reporter_name, reporter_phone, reporter_phone_index, anonymous, status,
  dispatch_unit_id, dispatch_level, time_state, resolution, reopen_count, return_count,
  reassign_count, escalated, supervised, received_at, revision, updated_at)
SELECT lpad((900000000000000000 + g)::text, 21, '4'),
  (ARRAY['hotline', 'hotline', 'hotline', 'grid', 'grid', 'opinion', 'video_ai', 'portal',
         'open311'])[1 + (g % 9)],
  '', 'complaint', false, '合成事件 ' || g, '合成', cat.id, '[]', '', '',
  CASE WHEN g % 50 = 0 THEN NULL ELSE c.min_lat + random() * (c.max_lat - c.min_lat) END,
  CASE WHEN g % 50 = 0 THEN NULL ELSE c.min_lon + random() * (c.max_lon - c.min_lon) END,
  c.id, c.parent_id, false, '', '', '', false,
  CASE WHEN g % 100 < 85 THEN 'closed' WHEN g % 100 < 90 THEN 'received'
       WHEN g % 100 < 95 THEN 'in_progress' WHEN g % 100 < 98 THEN 'resolved' ELSE 'dispatched' END,
  (SELECT id FROM core_orgunit WHERE kind = 'district' ORDER BY id LIMIT 1), '',
  CASE WHEN g % 100 >= 85 AND g % 5 = 0 THEN 'overdue' ELSE 'normal' END,
  '', 0, 0, 0, false, false,
  now() - (g::float / 1000000 * interval '730 days'), 0, now()
FROM generate_series(1, 1000000) AS g
JOIN comm c ON c.i = (hashint4(g) & 2147483647) % (SELECT count(*) FROM comm)
JOIN cat ON cat.i = (hashint4(g + 7) & 2147483647) % (SELECT count(*) FROM cat);
"""

CASES = [
    ("dispatcher", "/events/map/"),
    ("dispatcher", "/events/map/?state=all"),
    ("dispatcher", "/events/map/?layer=heat&state=all"),
    ("dispatcher", "/events/map/?layer=units&state=all"),
    ("dispatcher", "/events/map/?state=all&since=2026-11-01"),
    ("dispatcher.longwan", "/events/map/"),
    ("dispatcher.longwan", "/events/map/?state=all"),
    ("handler.qiaotou", "/events/map/?state=all"),
]


def seed() -> None:
    from yiwang.core.generator import build_district
    from yiwang.core.generator.loader import is_loaded, load_org
    from yiwang.events import catalog

    spec = build_district(code=settings.YIWANG_DISTRICT_CODE)
    if not is_loaded(spec):
        load_org(spec=spec)
    if catalog.published_catalog() is None:
        catalog.catalog_load(actor=None, system=True, publish=True,
                             data=catalog.shared_catalog_path().read_bytes())
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL)
    with connection.cursor() as cursor:  # index-only scans need the visibility map
        cursor.execute("VACUUM ANALYZE events_event")


def probe() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    for username, url in CASES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        assert client.get(url).status_code == 200, url
        times = []
        for _ in range(5):
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(f"{username:20s} {url:42s} median {statistics.median(times):6.0f} ms"
              f"  max {max(times):6.0f} ms  {len(queries)} queries, SQL {sql_ms:.0f} ms")


if os.environ.get("YW_MAP_SEED") == "1":
    seed()
probe()
