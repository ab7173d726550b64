# Keeps the odd numbers of load's output (light format).
import csv

# + tags=["parameters"]
upstream = ["load"]
product = None
# -

with open(upstream["load"]["data"], newline="") as handle:
    numbers = [int(row["n"]) for row in csv.DictReader(handle)]

# +
odd = [n for n in numbers if n % 2]
with open(product["data"], "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["n"])
    writer.writerows([n] for n in odd)
print("odd numbers:", odd)
