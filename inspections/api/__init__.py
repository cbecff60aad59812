"""REST API of the field-inspection app: what a mobile client needs in the field."""
