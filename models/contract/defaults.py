"""Defaults that a Processing parameter and the backend code behind its flag must agree on."""

PATCH_SIZE = 512            # the paper's training patches
BATCH_SIZE = 8
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 5e-4
ENCODER = "resnet101"       # the paper's U-Net encoder
ONE_SHOT_SIZE = 512         # side of the one-shot TARGET sample (0 = the patch size)
INFERENCE_WINDOW = 512      # classify/translate window when the output does not depend on it
