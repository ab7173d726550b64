def double(product, upstream):
    return upstream["ok"] * 2
