"""The trained model outside the pipeline: prediction, export, release and the web page."""
