# %% tags=["parameters"]
upstream = ["cycle_b"]
product = None
