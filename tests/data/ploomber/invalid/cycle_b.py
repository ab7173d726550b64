# %% tags=["parameters"]
upstream = ["cycle_a"]
product = None
