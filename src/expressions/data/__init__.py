"""Raw files to one training array: fetch, parse each layout, decode and clean, merge and split."""
