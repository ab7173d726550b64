# %% tags=["parameters"]
upstream = None
product = None
n = 1
exponent = 1

# %%
with open(product["data"], "w") as handle:
    handle.write(str(n**exponent))
