"""The running agent peer: daemon (composition root), agent, deals, its database, events and notifications."""
