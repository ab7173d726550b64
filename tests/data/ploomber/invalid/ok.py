# %% tags=["parameters"]
upstream = None
product = None
