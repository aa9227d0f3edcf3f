/* Entry points of the child roles: allora-workerd -P <role> calls one of these after exec.
 * Each returns the process exit status (0 after a clean shutdown). */
#ifndef AW_ROLES_H
#define AW_ROLES_H

int	 listener_main(void);
int	 trainer_main(void);
int	 submitter_main(void);

#endif
