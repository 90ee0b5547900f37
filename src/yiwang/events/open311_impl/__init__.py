"""Open311 GeoReport v2 (with mySociety's ``servicerequestupdates``) at ``/open311/v2/``.

``render`` turns a response into the spec's XML or JSON (the Spark convention),
``catalog`` maps the dispatch catalog to services, ``requests`` maps events to service
requests and their public updates, ``submit`` takes a POSTed request into ``intake_event``
and ``views`` wires them to the URLs (``yiwang.events.open311``).
"""
