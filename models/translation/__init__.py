"""Method-independent parts of image-to-image translation.

``registry`` (which methods exist, the contract a method module follows), ``config``
(every training parameter), ``sampling`` (source patches, the one-shot target window,
band and size checks shared by every method), ``scaling`` (raw values <-> model units)
and ``apply`` (windowed translation of rasters of any size).
"""
