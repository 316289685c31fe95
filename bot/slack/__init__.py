"""Slack glue: ack, parse, call the domain, render. No interview, scoring or scheduling rules live here."""
