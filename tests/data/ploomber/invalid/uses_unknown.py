# A script whose upstream names a task that does not exist.

# %% tags=["parameters"]
product = None
upstream = ["ok", "declared_here"]

# %%
print(upstream)
