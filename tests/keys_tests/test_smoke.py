import jwt

from keys.services.tokens import token_mint


def test_minted_token_verifies_with_the_public_pem(issuer, key_pair, cli_actor):
    minted = token_mint(actor=cli_actor, issuer=issuer, label="line 3 SCADA")
    claims = jwt.decode(
        minted.token, key_pair.public_pem, algorithms=["RS256"], audience="neuronex"
    )
    assert claims["iss"] == "plant-a.pem"
