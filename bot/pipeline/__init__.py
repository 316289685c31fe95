"""Durable inbox and outbox: recording, leased claims, fencing; imports the store (its tables) only."""
