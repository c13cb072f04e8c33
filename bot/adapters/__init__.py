"""Chat adapters: each turns a platform's messages into handler requests and replies back into its
markup. Only an adapter imports its platform's library."""
