"""What a trained model is worth: evaluation, the study's metrics, figures and the report."""
