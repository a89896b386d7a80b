"""The fixed vocabularies of the NeuronEX-family verifiers (neuronex-compat.md rules 4 and 7)."""

# Audiences the verifiers compare `aud` with. eKuiper's check is case-sensitive.
AUD_NEURONEX = "neuronex"  # current NeuronEX docs
AUD_NEURON = "neuron"  # older NeuronEX docs and the Neuron gateway
AUD_EKUIPER = "eKuiper"  # standalone eKuiper
AUDIENCES = (AUD_NEURONEX, AUD_NEURON, AUD_EKUIPER)
AUDIENCE_CHOICES = [
    (AUD_NEURONEX, "neuronex (current NeuronEX)"),
    (AUD_NEURON, "neuron (NeuronEX up to 3.4, Neuron)"),
    (AUD_EKUIPER, "eKuiper"),
]

# How the `iss` claim names the key file.
ISS_FILENAME = "filename"  # iss = "<name>.pem", the current vendor text; required by eKuiper
ISS_BARE = "bare"  # iss = "<name>", the older vendor text
ISS_STYLE_CHOICES = [
    (ISS_FILENAME, "file name: iss = <name>.pem (current NeuronEX docs)"),
    (ISS_BARE, "bare name: iss = <name> (NeuronEX up to 3.4)"),
]

# Kinds of key folder an export target can be.
PROFILE_NEURONEX = "neuronex"
PROFILE_NEURON = "neuron"
PROFILE_EKUIPER = "ekuiper"
PROFILE_CHOICES = [
    (PROFILE_NEURONEX, "NeuronEX (<install>/etc, exact file name)"),
    (PROFILE_NEURON, "Neuron (certs, prefix lookup, at most 8 key files)"),
    (PROFILE_EKUIPER, "eKuiper (etc/mgmt, file name = iss)"),
]

KEY_FILE_SUFFIX = ".pem"
RSA_KEY_SIZES = (2048, 3072, 4096)
