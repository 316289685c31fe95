"""Durable inbox and outbox: tables, leased claims, fencing; imports nothing else from bot."""
