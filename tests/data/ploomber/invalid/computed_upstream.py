# + tags=["parameters"]
upstream = [name for name in ["ok"]]
product = None
# -
