"""Getting digests out: the digester queues due subscriptions in the outbox, the outbox is emptied
into channels, one per platform."""
