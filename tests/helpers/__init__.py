"""What tests share: paths, posts, chat requests and replies (like PTB's tests/auxil)."""
