"""The gauntlet command, subcommands, drill and text views; may import every layer below, never Slack SDKs."""
