package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretEnv names every environment variable that holds a secret. Each may
// instead be given as a file: NAME_FILE=/path (Docker and Kubernetes
// secrets), or a systemd credential named NAME (LoadCredential=NAME:/path,
// found in $CREDENTIALS_DIRECTORY), so that it is in no process's
// environment.
var secretEnv = []string{
	"IDICBOT_ADMIN_TOKEN",
	"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
	"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
	"ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN", "ZALO_ACCESS_TOKEN",
	"MESSENGER_PAGE_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN",
	"OPENAI_API_KEY",
}

// secretsFromFiles returns getenv with each secret of secretEnv that is not
// set in the environment read from NAME_FILE or from the systemd
// credential NAME. The errors name the variable and the file, never the
// value.
func secretsFromFiles(getenv func(string) string) (func(string) string, error) {
	found := map[string]string{}
	credDir := getenv("CREDENTIALS_DIRECTORY")
	for _, name := range secretEnv {
		file := getenv(name + "_FILE")
		switch {
		case getenv(name) != "" && file != "":
			return nil, fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
		case getenv(name) != "":
			continue
		case file != "":
			v, err := readSecret(file)
			if err != nil {
				return nil, fmt.Errorf("%s_FILE: %w", name, err)
			}
			found[name] = v
		case credDir != "":
			v, err := readSecret(filepath.Join(credDir, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("systemd credential %s: %w", name, err)
			}
			found[name] = v
		}
	}
	if len(found) == 0 {
		return getenv, nil
	}
	return func(k string) string {
		if v, ok := found[k]; ok {
			return v
		}
		return getenv(k)
	}, nil
}

// readSecret reads a secret file; the line break editors add at the end is
// not part of it.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}
