module dumont.invalid/s3-relay

go 1.26
