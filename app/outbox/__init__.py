"""The transactional outbox: ``queue`` adds and manages items, ``worker`` delivers them."""
