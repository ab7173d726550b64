# %% tags=["parameters"]
upstream = ["total"]
product = None

# %%
from pathlib import Path

Path(product["text"]).write_text(f"total = {Path(upstream['total']).read_text()}\n")
