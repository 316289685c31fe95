"""Slack glue: ack, parse, call the domain, render; on top: may import any layer, the only user of slack_sdk.

No interview, scoring or scheduling rules live here."""
