"""The domain: conversations, routing and the queue, delivery, accounts. No HTTP, SQL or provider code."""
