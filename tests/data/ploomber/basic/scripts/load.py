# %% [markdown]
# Writes the numbers 1..count to a CSV file (percent format).

# %%
import csv

# %% tags=["parameters"]
upstream = None
product = None
count = 3

# %%
with open(product["data"], "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["n"])
    for n in range(1, count + 1):
        writer.writerow([n])
print(f"wrote {count} numbers")
