"""Chat backends (llama.cpp in-process, Ollama) and prompt assembly."""
