import pandas as pd

def loader() -> pd.DataFrame:
    return pd.read_csv("data/churn.csv")
