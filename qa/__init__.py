"""Retrieval question answering over report documents, Chinese first.

Importing this package is cheap: heavy libraries (torch, sentence-transformers, faiss, gradio)
are imported by the modules that need them, when they need them.
"""

__version__ = "0.1.0"
