"""The LRM one-shot image-to-image translator (Ismael, Kayabol, Aptoula, GRSL 2023).

``network`` (encoder, decoder, batch-instance normalisation, discriminator), ``vgg``
(frozen VGG19 feature extractor and where its weights come from), ``losses``
(reconstruction, LSGAN, content, Gram style), ``train`` (the training loop),
``method`` (the ``train``/``load`` pair the translation registry calls).
"""
