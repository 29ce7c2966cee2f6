"""The specification: abstract point-in-time images and the cascade rules, in one encoding."""
