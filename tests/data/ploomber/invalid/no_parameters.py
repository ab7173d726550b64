# %%
print("no parameters cell")
