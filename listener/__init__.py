"""Collectors: fetch raw pages per platform → normalise (pure) → upsert posts, advance the cursor."""
