"""Memory: embeddings, semantic / lexical / working stores, hybrid retrieval."""
