import pandas as pd
from sklearn.linear_model import LogisticRegression

def trainer(df: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(df.drop(columns="churned"), df["churned"])
