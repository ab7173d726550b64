# %% tags=["parameters"]
upstream = None
product = None
title = None

# %%
def read(paths):
    return " ".join(open(products["data"]).read() for _, products in sorted(paths.items()))


with open(product, "w") as handle:
    handle.write(f"{title}: {read(upstream['square-*'])} | {read(upstream['cube-*'])}\n")
print("combined", len(upstream), "groups")
