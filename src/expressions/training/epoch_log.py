"""What training reports per epoch: the study's log line and the series dvclive records.

The report stage reads both back (it rebuilds the study's log lines from dvclive's files), so
they are spelled once, here, in a module that imports nothing heavy.
"""

EPOCH_LINE = (
    "Epoch [{epoch}/{epochs}], Validation Loss: {val_loss:.4f}, Validation Accuracy: {val_acc:.2%}"
)
PLOTTED = ("train_loss", "val_loss", "val_acc", "lr")  # dvclive series, one row per epoch
SUMMARY = ("val_loss", "val_acc")  # dvclive's metrics.json, a DVC metric: the kept epoch's
# Every fraction (val_acc, accuracy, precision, ...) is stored as a fraction of 1; only the log
# line shows a percentage, as the study printed it.
