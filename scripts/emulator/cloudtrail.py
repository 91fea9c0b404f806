"""CloudTrail (awsJson 1.1) over moto: the default event selector of a new trail.

AWS: a trail created without event selectors logs all read and write management events
(GetEventSelectors answers one selector, ReadWriteType All, IncludeManagementEvents true).
moto answers no selector at all until PutEventSelectors, which reads as "logs nothing". Here a
trail whose basic and advanced selectors are both empty gets AWS's default. Everything else is
moto's.
"""

from __future__ import annotations

import json

from app import Raw

DEFAULT_SELECTOR = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


def get_event_selectors(ctx):
    answer = ctx.forward()
    if answer.status != 200:
        return answer
    body = json.loads(answer.body or b"{}")
    if not body.get("EventSelectors") and not body.get("AdvancedEventSelectors"):
        body["EventSelectors"] = [dict(DEFAULT_SELECTOR)]
        body.pop("AdvancedEventSelectors", None)
    return Raw(answer.status, answer.headers, json.dumps(body).encode())


HANDLERS = {
    ("cloudtrail", "GetEventSelectors"): get_event_selectors,
}
