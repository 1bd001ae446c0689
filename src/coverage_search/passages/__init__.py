"""Documents → stories (syndicated copies folded) and passages sized by the model's tokenizer."""
