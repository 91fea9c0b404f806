#!/usr/bin/env python3
"""soc2-evidence's test emulator: moto's server, plus the AWS calls moto lacks.

Usage: server.py -H 127.0.0.1 -p PORT      (the flags of moto_server)

Runs moto's own WSGI application (DomainDispatcherApplication over create_backend_app, as
moto_server does) in this process, behind a middleware (`app.py`) that answers some calls
itself and passes every other request to moto unchanged. The environment passes through
(MOTO_EC2_LOAD_DEFAULT_AMIS, MOTO_IAM_LOAD_MANAGED_POLICIES...). Readiness: GET /moto-api/
answers 200, as with moto. POST /moto-api/reset also clears the emulator's own state.

What it adds over moto 5.2 (each module's docstring has the details):
  accessanalyzer.py  IAM Access Analyzer: analyzers and findings (moto has none)
  guardduty.py       GuardDuty ListFindings, GetFindings, GetFindingsStatistics, (Un)ArchiveFindings
  iam.py             the credential report's <root_account> row and GeneratedTime; root MFA in
                     GetAccountSummary
  cloudwatch.py      the rpc-v2-cbor protocol of the Rust SDK; DescribeAlarms filters and paging
  cloudtrail.py      a new trail's default event selector (all management events)
  config.py          DescribeComplianceByConfigRule, DescribeDeliveryChannelStatus, recorder
                     lastStatus SUCCESS
  ssoadmin.py        ListAccountsForProvisionedPermissionSet and what else moto gets wrong
State that no AWS write API can create (findings, rule compliance, root MFA) is seeded with
POST /soc2-emulator/seed; its JSON body is documented in state.py. Listens on the given host only.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    import accessanalyzer
    import cloudtrail
    import cloudwatch
    import config
    import guardduty
    import iam
    import ssoadmin
    from app import Emulator

    handlers: dict = {}
    for module in (accessanalyzer, guardduty, iam, cloudwatch, cloudtrail, config, ssoadmin):
        handlers.update(module.HANDLERS)
    moto_app = DomainDispatcherApplication(create_backend_app)
    return Emulator(moto_app, handlers)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    def stop(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_simple(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
