from steps.train import trainer
from steps.load import loader

def pipeline():
    trainer(loader())

if __name__ == "__main__":
    pipeline()
