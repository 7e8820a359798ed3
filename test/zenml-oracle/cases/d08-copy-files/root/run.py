from zenml import pipeline
