placeholder: someone copied an export into the vault
