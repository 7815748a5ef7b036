"""U-Net segmenter (segmentation-models-pytorch): building, training and classification.

* ``network``         -- the U-Net, encoder-name checks, parameter count
* ``encoder_weights`` -- ImageNet weights: a file, the local cache, a download, or none
* ``scaling``         -- per-band input standardisation stored in the model file
* ``data``            -- image/label pairs, patch windows, train/validation split
* ``train``           -- the training loop (early stopping, best model saved atomically)
* ``predict``         -- loading a model file and classifying a raster window by window
"""
