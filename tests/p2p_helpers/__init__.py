"""Helper programs started as separate OS processes by the p2p integration tests."""
